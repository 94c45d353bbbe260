# syntax=docker/dockerfile:1
# netirq_exporter's container image:
#   docker build -t netirq_exporter --build-arg VERSION=$(git describe --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
# and for several platforms: docker buildx build --platform linux/amd64,linux/arm64 .
# See deploy/README.md ("Container image") and deploy/kubernetes for running it.
# deploy/container_test.go builds the binary with this file's `go build`
# line and checks that it is static; keep that line a single RUN.

# The builder runs on the build machine's own platform and cross-compiles
# (no emulation): CGO_ENABLED=0 needs no C toolchain for the target.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" -o /out/netirq_exporter ./cmd/netirq_exporter

# A static binary needs no libc: distroless/static is a few files (CA
# certificates, tzdata, /etc/passwd with nobody = 65534) and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/netirq_exporter /bin/netirq_exporter
# nobody, as the DaemonSet's runAsUser; the exporter needs no privilege.
USER 65534:65534
EXPOSE 10467
ENTRYPOINT ["/bin/netirq_exporter"]
