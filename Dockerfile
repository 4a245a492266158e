# rtd container image from the release binaries (docs/production.md §10):
#   make release
#   docker buildx build --platform linux/amd64,linux/arm64 -t rtd:$(cat dist/VERSION) .
# A static binary needs no libc: distroless/static has CA certificates, /etc/passwd
# with nonroot, and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETARCH
COPY dist/rtd-linux-${TARGETARCH} /usr/local/bin/rtd
USER nonroot:nonroot
EXPOSE 8080
# /readyz turns 503 for drain-delay before the shutdown: give the pod (or
# `docker stop -t`) drain-delay + shutdown-timeout + 5 s.
ENTRYPOINT ["/usr/local/bin/rtd"]
CMD ["serve", "--drain-delay", "5s", "--shutdown-timeout", "10s"]
