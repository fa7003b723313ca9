import Glibc

func say(_ s: String) { let b = Array((s + "\n").utf8); _ = b.withUnsafeBytes { write(1, $0.baseAddress, $0.count) } }
func die(_ s: String, _ code: Int32) -> Never {
    let b = Array((s + "\n").utf8); _ = b.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }; exit(code)
}

