// Package dashboards will hold Baton's Grafana dashboard JSON and the tests
// proving that every panel query names metrics the binaries really export.
package dashboards
