// pulumi-resource-docker built from the Terraform docker provider and Pulumi's Terraform bridge,
// for machines that cannot download Pulumi's official plugin. It serves the resource tokens and
// property names of @pulumi/docker (the version is passed at link time), with the same per-field
// overrides as pulumi-docker's own provider/resources.go.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// version is set with -ldflags "-X main.version=<@pulumi/docker version>".
var version = "0.0.0"

func resource(module, name string) *tfbridge.ResourceInfo {
	return &tfbridge.ResourceInfo{Tok: tfbridge.MakeResource("docker", module, name)}
}

func main() {
	container := resource("index", "Container")
	// Containers have fixed names: the replacement must go first (as in the official plugin).
	container.DeleteBeforeReplace = true
	container.Fields = map[string]*tfbridge.SchemaInfo{
		"command":           {Name: "command"},
		"networks_advanced": {Name: "networksAdvanced"},
	}
	image := resource("index", "RemoteImage")
	image.Fields = map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}}

	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider(version)),
		Name:    "docker",
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				Value: "unix:///var/run/docker.sock", EnvVars: []string{"DOCKER_HOST"},
			}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config":         resource("index", "ServiceConfig"),
			"docker_container":      container,
			"docker_image":          image,
			"docker_network":        resource("index", "Network"),
			"docker_secret":         resource("index", "Secret"),
			"docker_service":        resource("index", "Service"),
			"docker_volume":         resource("index", "Volume"),
			"docker_registry_image": resource("index", "RegistryImage"),
			"docker_plugin":         resource("index", "Plugin"),
			"docker_tag":            resource("index", "Tag"),
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":        {Tok: tfbridge.MakeDataSource("docker", "index", "getNetwork")},
			"docker_registry_image": {Tok: tfbridge.MakeDataSource("docker", "index", "getRegistryImage")},
			"docker_plugin":         {Tok: tfbridge.MakeDataSource("docker", "index", "getPlugin")},
			"docker_image":          {Tok: tfbridge.MakeDataSource("docker", "index", "getRemoteImage")},
		},
	}
	info.SetAutonaming(255, "-")
	// A TypeScript program needs no schema from the plugin: the SDK carries the types.
	tfbridge.Main("docker", version, info, []byte("{}"))
}
