print("paytrack: not yet wired")
