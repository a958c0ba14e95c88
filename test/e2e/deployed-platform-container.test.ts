// The platform as operators deploy it (Kill Bill and the API from images built here), container runtime.
import { deployedPlatformStories } from "./deployed-platform";

deployedPlatformStories("container", "e2ej");
