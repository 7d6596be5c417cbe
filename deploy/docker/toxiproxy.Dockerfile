# The toxiproxy image of the compose appliance: toxiproxy's server built
# from its Go module (go.mod's tool directive) by `make images`, with the
# appliance's links (deploy/compose/toxiproxy.json) created at start. The
# baton binary is here only for the healthcheck (there is no shell).
FROM scratch
COPY toxiproxy-server /toxiproxy-server
COPY baton /baton
COPY toxiproxy.json /toxiproxy.json
EXPOSE 8474
ENTRYPOINT ["/toxiproxy-server", "-host", "0.0.0.0", "-port", "8474", "-config", "/toxiproxy.json"]
