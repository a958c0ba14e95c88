// Child process for the guard test: raises an unhandled rejection of the given kind.
import { installOrphanedRpcGuard } from "../../automation/orphaned-rpc-guard";

installOrphanedRpcGuard((e) => process.stdout.write(`absorbed ${e.message}\n`));
const kind = process.argv[2];
const reason =
  kind === "grpc-unavailable"
    ? Object.assign(new Error("14 UNAVAILABLE: read ECONNRESET"), {
        code: 14,
        details: "read ECONNRESET",
      })
    : new Error("an ordinary bug");
void Promise.reject(reason);
setTimeout(() => process.stdout.write("still alive\n"), 100);
