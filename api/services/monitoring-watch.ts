import type { Logger } from "pino";
import type { Mail } from "../domain/mail";
import { monitoringBackMail, monitoringSilentMail } from "../mail/messages";
import type { MonitoringHeartbeatStore } from "../store/monitoring-heartbeat-store";

export interface MonitoringWatchDeps {
  store: MonitoringHeartbeatStore;
  mail: { send(mail: Mail): Promise<void> };
  operatorEmail: string;
  /**
   * A silence longer than this is mailed (MONITORING_SILENCE_SECONDS; the platform sets it with
   * its monitoring). Unset: no monitoring sends heartbeats here, and nothing is watched.
   */
  silenceSeconds?: number;
  heartbeatAge: { set(seconds: number): void };
  logger: Logger;
}

/**
 * The dead man's switch: Prometheus and Alertmanager cannot page anyone about their own absence,
 * so Alertmanager sends an always-firing alert (Watchdog) to the API every minute, and the API,
 * which lives beside them, mails the operator itself when those heartbeats stop, and again when
 * they come back. The API's own absence is what Prometheus alerts on: each watches the other.
 */
export class MonitoringWatch {
  private armed = false;

  constructor(private readonly d: MonitoringWatchDeps) {}

  get watching(): boolean {
    return this.d.silenceSeconds !== undefined;
  }

  async heartbeat(): Promise<void> {
    await this.d.store.received();
  }

  async check(): Promise<{ silentSeconds: number; mailed?: "silent" | "back" } | undefined> {
    if (this.d.silenceSeconds === undefined) return undefined;
    if (!this.armed) {
      await this.d.store.arm();
      this.armed = true;
    }
    const c = await this.d.store.check(this.d.silenceSeconds);
    this.d.heartbeatAge.set(c.silentSeconds);
    if (c.silenceClaimed) {
      await this.mailOrUnclaim(
        monitoringSilentMail(this.d.operatorEmail, c.lastHeartbeatAt, c.silentSeconds),
        null,
      );
      this.d.logger.error(
        { silentSeconds: Math.round(c.silentSeconds), lastHeartbeatAt: c.lastHeartbeatAt },
        "monitoring silent: no heartbeat from Alertmanager; the operator is mailed",
      );
      return { silentSeconds: c.silentSeconds, mailed: "silent" };
    }
    if (c.backAfterSilenceMailedAt) {
      await this.mailOrUnclaim(
        monitoringBackMail(this.d.operatorEmail, c.backAfterSilenceMailedAt),
        c.backAfterSilenceMailedAt,
      );
      this.d.logger.info("monitoring back: Alertmanager's heartbeats arrive again");
      return { silentSeconds: c.silentSeconds, mailed: "back" };
    }
    return { silentSeconds: c.silentSeconds };
  }

  private async mailOrUnclaim(mail: Mail, before: Date | null): Promise<void> {
    try {
      await this.d.mail.send(mail);
    } catch (e) {
      await this.d.store.unclaim(before).catch(() => undefined);
      throw e;
    }
  }
}
