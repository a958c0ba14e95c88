// Copied into a local copy of Pulumi's terraform-plugin-sdk fork at build time
// (scripts/ensure-docker-provider.sh). The fork was built against terraform-plugin-go v0.29;
// the docker provider needs v0.31, whose ProviderServer interface gained this one method.
// Pulumi never calls it (it is Terraform's `plan -generate-config-out`), so it only refuses.
package schema

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
)

func (s *GRPCProviderServer) GenerateResourceConfig(
	_ context.Context, _ *tfprotov5.GenerateResourceConfigRequest,
) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{
		Diagnostics: []*tfprotov5.Diagnostic{{
			Severity: tfprotov5.DiagnosticSeverityError,
			Summary:  "GenerateResourceConfig is not supported by this build",
		}},
	}, nil
}
