module odoo-saas/traefik

go 1.26

require github.com/traefik/traefik/v3 v3.7.13

// Traefik's own go.mod replaces, repeated (replaces are not inherited), with local stand-ins where
// the module proxy refuses the original (copied next to this file by images/build-traefik.sh):
// - dynamic/ext: a path replace inside Traefik's repository, absent from its module zip;
// - go-http-auth: Traefik's fork is refused; the served v0.4.0 plus the two functions Traefik uses;
// - lego/v5: its DNS-01 providers pull SDKs the proxy refuses; this test build has none of them.
replace github.com/traefik/traefik/dynamic/ext => ./ext

replace github.com/abbot/go-http-auth => ./go-http-auth

replace github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59

replace github.com/go-acme/lego/v5 => ./lego

exclude github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible
