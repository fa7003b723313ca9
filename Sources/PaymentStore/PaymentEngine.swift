import Payments

/// The payment engine as the Node wires it: a payment store (SQLite, or PostgreSQL with
/// `init(store:)`), the control tower over it and the payment control that mutates through both.
/// One per node.
///
///     let engine = try PaymentEngine(path: SQLitePaymentStore.defaultPath(dataDirectory: dir, network: net),
///                                    keepFailedAttempts: !config.pruneFailedPaymentAttempts)
///     for p in try engine.control.inFlightPayments() { lifecycle.resume(p) }
///     ...
///     engine.close()
public final class PaymentEngine: Sendable {
    public let store: any PaymentPersistence
    public let tower: ControlTower
    public let control: PaymentControl

    public convenience init(path: String, keepFailedAttempts: Bool = true,
                storeOptions: SQLitePaymentStore.Options = SQLitePaymentStore.Options(),
                towerOptions: ControlTower.Options = ControlTower.Options(),
                controlOptions: PaymentControl.Options = PaymentControl.Options()) throws(PaymentError) {
        self.init(store: try SQLitePaymentStore(path: path, options: storeOptions), keepFailedAttempts: keepFailedAttempts,
                  towerOptions: towerOptions, controlOptions: controlOptions)
    }

    /// The engine over an open store (it takes ownership: `close` closes the store).
    public init(store: any PaymentPersistence, keepFailedAttempts: Bool = true,
                towerOptions: ControlTower.Options = ControlTower.Options(),
                controlOptions: PaymentControl.Options = PaymentControl.Options()) {
        self.store = store
        tower = ControlTower(store: store, options: towerOptions)
        var o = controlOptions
        o.keepFailedAttempts = keepFailedAttempts
        control = PaymentControl(store: store, tower: tower, options: o)
    }

    /// Commits everything queued, then closes the database. Later mutations fail with `storeClosed`.
    public func close() { store.close() }
}
