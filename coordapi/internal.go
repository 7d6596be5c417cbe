package coordapi

// InternalUser is the user name under which the appliance's own processes
// (coordinators, replicas, baton ctl) authenticate to a datastore node,
// with the cluster secret as its password: AUTH baton-internal <secret>.
// Only this identity runs a node's control commands (replication, epochs,
// freezes, CONFIG SET, SHUTDOWN...) when the node has a cluster secret;
// application clients, whatever their password, get NOPERM.
const InternalUser = "baton-internal"
