// Package deploy holds what an operator deploys: the compose appliance's
// Dockerfiles (docker/) and toxiproxy links (compose/), Prometheus
// configuration (prometheus/prometheus.yml), Grafana provisioning (grafana/)
// for the dashboards in dashboards/, and the Kubernetes manifests (k8s/:
// StatefulSets for coordinators and nodes, a Deployment for proxies;
// k8s/README.md), which cmd/baton/deploy_k8s_test.go checks against the
// binary's real flags.
package deploy
