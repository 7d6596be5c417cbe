// Package dashboards holds Baton's Grafana dashboards (the *.json files,
// provisioned by deploy/grafana) and reads their panel queries, so that
// tests and `make dashboards-check` can prove every query names metrics the
// binaries really export and returns data from a live appliance.
package dashboards
