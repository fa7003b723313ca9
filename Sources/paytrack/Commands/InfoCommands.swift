import LightningRPC

/// gRPC method paths used by the commands.
enum RPCPath {
    static let getInfo = "/lnrpc.Lightning/GetInfo"
    static let addInvoice = "/lnrpc.Lightning/AddInvoice"
    static let lookupInvoice = "/lnrpc.Lightning/LookupInvoice"
    static let listInvoices = "/lnrpc.Lightning/ListInvoices"
    static let decodePayReq = "/lnrpc.Lightning/DecodePayReq"
    static let listPayments = "/lnrpc.Lightning/ListPayments"
    static let deletePayment = "/lnrpc.Lightning/DeletePayment"
    static let deleteAllPayments = "/lnrpc.Lightning/DeleteAllPayments"
    static let bakeMacaroon = "/lnrpc.Lightning/BakeMacaroon"
    static let listPermissions = "/lnrpc.Lightning/ListPermissions"
    static let sendPaymentV2 = "/routerrpc.Router/SendPaymentV2"
    static let trackPaymentV2 = "/routerrpc.Router/TrackPaymentV2"
    static let trackPayments = "/routerrpc.Router/TrackPayments"
}

enum InfoCommands {
    static let getInfo = Command("getinfo", summary: "Returns basic information related to the active daemon.") { inv in
        try inv.expectAtMost(0)
        let resp = try inv.connection().unary(RPCPath.getInfo, Lnrpc.GetInfoRequest(), as: Lnrpc.GetInfoResponse.self)
        Output.printMessage(resp)
    }
}
