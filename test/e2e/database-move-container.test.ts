// Database moves (shared <-> dedicated) through the API on the container runtime.
import { databaseMoveStories } from "./database-move";

databaseMoveStories("container", "e2eb");
