// Package deploy holds no code: it is the home of the tests for the
// deployment files around it (systemd/, kubernetes/, the repository's
// Dockerfile). It is a module of its own so that the Kubernetes and
// kustomize libraries the tests decode the manifests with stay out of
// netirq_exporter's own go.mod. Run it with `cd deploy && go test ./...`
// (make test does).
package deploy
