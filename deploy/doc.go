// Package deploy will hold what an operator deploys: Dockerfiles for FROM
// scratch images of static binaries, Prometheus configuration, Grafana
// provisioning and Kubernetes manifests, with tests that validate them.
package deploy
