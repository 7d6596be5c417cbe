// Package deploy holds what an operator deploys: Prometheus configuration
// (prometheus/prometheus.yml) and Grafana provisioning (grafana/) for the
// dashboards in dashboards/; the compose appliance's Dockerfiles and the
// Kubernetes manifests come with issue 8.
package deploy
