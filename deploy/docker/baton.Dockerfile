# The baton image: one static binary (CGO_ENABLED=0, built by `make images`)
# on an empty base, so nothing is pulled. There is no shell: healthchecks
# run ["/baton", "healthcheck"], and operators use
# `docker compose exec c1 /baton ctl status`.
FROM scratch
COPY baton /baton
ENV BATON_HTTP_ADDR=0.0.0.0:9100
EXPOSE 6379 7000 7379 9100
ENTRYPOINT ["/baton"]
