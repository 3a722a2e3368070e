import Foundation

extension BackupManager {
    /// Posts `BACKUP_NOTIFY_URL` an operation's outcome when the settings ask for it (failures always, successes
    /// with `BACKUP_NOTIFY_ON=always`). Called from `recordFailure` and `recordSuccess`, so every operation that
    /// records its outcome notifies. Bounded by the transport's timeout; never throws: a delivery failure is
    /// logged (URL redacted) and kept for status as `last_notification_error`.
    func notify(operation: String, outcome: NotificationEvent.Outcome, backup: String? = nil, message: String) {
        let monitoring = configuration.monitoring
        guard let url = monitoring.notifyURL, outcome == .failure || monitoring.notifyOn == .always else { return }
        let event = NotificationEvent(operation: operation, outcome: outcome, database: configuration.postgres.database,
                                      backup: backup, message: message, host: NotificationEvent.localHost,
                                      time: clock.now())
        deliver(url: url, body: Array(event.json.serialized().utf8), contentType: "application/json",
                what: event.event)
    }

    /// Pings `BACKUP_HEALTHCHECK_URL` (the scheduler's runs), with `message` as the body.
    public func pingHealthcheck(_ ping: HealthcheckPing, message: String = "") {
        guard let base = configuration.monitoring.healthcheckURL else { return }
        deliver(url: ping.url(base: base), body: Array(String(message.prefix(NotificationEvent.messageLimit)).utf8),
                contentType: "text/plain; charset=utf-8", what: "healthcheck \(ping.rawValue)")
    }

    private func deliver(url: String, body: [UInt8], contentType: String, what: String) {
        let failure: NotificationError?
        do {
            try notificationTransport.post(url: url, body: body, contentType: contentType)
            failure = nil
        } catch let error as NotificationError {
            failure = error
        } catch {
            failure = NotificationError(url: url, reason: "\(error)")
        }
        if let failure {
            logger.warning("notification not delivered", metadata: ["what": "\(what)", "error": "\(failure)"])
        } else {
            logger.info("notification delivered", metadata: ["what": "\(what)", "to": "\(URLRedaction.redact(url))"])
        }
        recordNotification(failure, what: what)
    }

    /// Keeps the last delivery failure for status; a later delivery that works clears it.
    private func recordNotification(_ failure: NotificationError?, what: String) {
        guard DirectoryAccess.writeProblem(store.directory) == nil else { return }
        let state = RunState.load(store)
        if failure == nil, state.lastNotificationError == nil { return }
        do {
            try RunState.update(store) { state in
                state.lastNotificationError = failure.map {
                    RunState.Failure(at: clock.now(), operation: what, message: $0.description)
                }
            }
        } catch {
            logger.error("could not record the notification's outcome for status", metadata: ["error": "\(error)"])
        }
    }
}
