// Database moves (shared <-> dedicated) through the API on Docker Swarm.
import { databaseMoveStories } from "./database-move";

databaseMoveStories("swarm", "e2ei");
