print("paytrackd: not yet wired")
