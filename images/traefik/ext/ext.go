// Package ext stands in for Traefik's dynamic-configuration extension point, a separate module in
// Traefik's repository that its module zip does not carry. Upstream's are empty extension structs.
package ext

// HTTP is inlined into Traefik's HTTP dynamic configuration.
type HTTP struct{}

// Router is inlined into Traefik's router configuration.
type Router struct{}
