module odoo-saas/pulumi-resource-docker

go 1.25.8

require (
	github.com/pulumi/pulumi-terraform-bridge/v3 v3.120.0
	github.com/terraform-providers/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4
)

// Local copies made by scripts/ensure-docker-provider.sh: the docker provider with the shim
// package added, and Pulumi's SDK fork (the bridge's own replace, repeated: replaces are not
// inherited) with the one-method stub added.
replace github.com/terraform-providers/terraform-provider-docker => ../tfdocker

replace github.com/hashicorp/terraform-plugin-sdk/v2 => ../tfsdkfork
