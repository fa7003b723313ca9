import LightningPrimitives
import PostgreSQL

/// Carries invoice changes made by other replicas on the same database to this process's
/// registry: LISTENs on the schema's `invoiceChangeChannel` (each invoice update NOTIFYs its payment
/// hash) and lets the registry resolve the HTLCs it holds for those invoices
/// (`resolveHeldFromStore`): a hold invoice accepted here and settled or canceled through another
/// replica releases or fails the payer's HTLC here. Every `pollSeconds`, and after a lost session,
/// every held invoice is re-read (notifications sent while no session listened are gone).
public final class PostgresInvoiceFeed: @unchecked Sendable {
    private let listener: PostgresListener

    /// Connects, LISTENs and starts the thread.
    public init(options: PostgresInvoiceStore.Options, registry: InvoiceRegistry, pollSeconds: Double = 1) throws(InvoiceError) {
        var o = PostgresConnection.Options()
        o.timeoutSeconds = options.timeoutSeconds == 0 ? 30 : options.timeoutSeconds
        o.applicationName = "paytrackd-invoices-feed"
        o.searchPath = options.schema
        do {
            listener = try PostgresListener(dsn: options.dsn, options: o, channels: [options.invoiceChangeChannel],
                                            pollSeconds: pollSeconds) { [weak registry] heard in
                guard let registry else { return }
                if heard.isEmpty {
                    registry.resolveHeldFromStore()
                } else {
                    registry.resolveHeldFromStore(hashes: heard.compactMap { Hex.decode($0.payload) })
                }
            }
        } catch {
            throw .storage(String(describing: error))
        }
        listener.start()
    }

    /// Stops the thread. Idempotent.
    public func stop() { listener.stop() }
}
