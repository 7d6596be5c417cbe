// Package deploy holds what an operator deploys: Prometheus configuration
// (prometheus/prometheus.yml) and Grafana provisioning (grafana/) for the
// dashboards in dashboards/; the compose appliance's Dockerfiles and the
// Kubernetes manifests come with issue 8.
//
// k8s/ holds the Kubernetes manifests (StatefulSets for coordinators and
// nodes, a Deployment for proxies; k8s/README.md), which
// cmd/baton/deploy_k8s_test.go checks against the binary's real flags.
package deploy
