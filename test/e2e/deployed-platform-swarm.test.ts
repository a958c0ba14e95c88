// The platform as operators deploy it (Kill Bill and the API from images built here), on Swarm.
import { deployedPlatformStories } from "./deployed-platform";

deployedPlatformStories("swarm", "e2ek");
