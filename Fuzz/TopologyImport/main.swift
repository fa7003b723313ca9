import Routing
import Simnet

/// Topology files and `lncli describegraph` JSON are outside bytes: both parsers must return a
/// value or a TopologyError, never crash; whatever parses must survive our encode/decode round
/// trip unchanged and build a network.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for parsed in [try? TopologyFile.decode(bytes), try? DescribeGraphImport.decode(bytes)] {
        guard let topology = parsed else { continue }
        let again = try? TopologyFile.decode(TopologyFile.encode(topology))
        precondition(again == topology, "topology round trip changed the value")
        if topology.nodes.count <= 8 && topology.channels.count <= 16 {
            _ = try? SimulatedNetwork(topology: topology).publicGraph()
        }
    }
    return 0
}
