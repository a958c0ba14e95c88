// Package shim is copied into the Terraform docker provider's module at build time
// (scripts/ensure-docker-provider.sh): only code inside that module may import its
// internal/provider package, which holds the SDKv2 provider the bridge wraps.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the Terraform docker provider, as upstream's main.go builds it.
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
