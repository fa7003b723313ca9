import ProtoWire

/// The parts of google/protobuf/descriptor.proto the schema test reads, decoded with our own
/// ProtoWire (field numbers from descriptor.proto). Unknown fields are skipped.
enum Descriptor {
    struct FileSet: ProtoMessage {
        static let protoMessageName = "google.protobuf.FileDescriptorSet"
        var files: [File] = []
        /// Each file's serialized FileDescriptorProto, as protoc wrote it.
        var rawFiles: [[UInt8]] = []
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            guard tag.number == 1 else { return try reader.skip(tag) }
            var nested = try reader.nestedReader(tag)
            rawFiles.append(Array(nested.buffer))
            var file = File()
            try file.merge(from: &nested)
            files.append(file)
        }
        func encode(to writer: inout ProtoWriter) { for f in files { writer.writeMessage(f, field: 1) } }
    }

    struct File: ProtoMessage {
        static let protoMessageName = "google.protobuf.FileDescriptorProto"
        var name = "", package = ""
        var dependencies: [String] = []
        var messages: [Message] = []
        var enums: [Enum] = []
        var services: [Service] = []
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            switch tag.number {
            case 1: name = try reader.readString(tag)
            case 2: package = try reader.readString(tag)
            case 3: dependencies.append(try reader.readString(tag))
            case 4: messages.append(try reader.readMessage(tag))
            case 5: enums.append(try reader.readMessage(tag))
            case 6: services.append(try reader.readMessage(tag))
            default: try reader.skip(tag)
            }
        }
        func encode(to writer: inout ProtoWriter) {}
    }

    struct Message: ProtoMessage {
        static let protoMessageName = "google.protobuf.DescriptorProto"
        var name = ""
        var fields: [Field] = []
        var nested: [Message] = []
        var enums: [Enum] = []
        var oneofs: [String] = []
        var mapEntry = false
        var reserved: [[Int]] = []
        var reservedNames: [String] = []
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            switch tag.number {
            case 1: name = try reader.readString(tag)
            case 2: fields.append(try reader.readMessage(tag))
            case 3: nested.append(try reader.readMessage(tag))
            case 4: enums.append(try reader.readMessage(tag))
            case 7:  // MessageOptions
                var opts = try reader.nestedReader(tag)
                while let t = try opts.nextTag() {
                    if t.number == 7 { mapEntry = try opts.readBool(t) } else { try opts.skip(t) }
                }
            case 8:  // OneofDescriptorProto
                var o = try reader.nestedReader(tag)
                while let t = try o.nextTag() {
                    if t.number == 1 { oneofs.append(try o.readString(t)) } else { try o.skip(t) }
                }
            case 9:  // ReservedRange: start inclusive, end exclusive
                var r = try reader.nestedReader(tag)
                var start = 0, end = 0
                while let t = try r.nextTag() {
                    switch t.number {
                    case 1: start = Int(try r.readInt32(t))
                    case 2: end = Int(try r.readInt32(t))
                    default: try r.skip(t)
                    }
                }
                reserved.append([start, end - 1])
            case 10: reservedNames.append(try reader.readString(tag))
            default: try reader.skip(tag)
            }
        }
        func encode(to writer: inout ProtoWriter) {}
    }

    struct Field: ProtoMessage {
        static let protoMessageName = "google.protobuf.FieldDescriptorProto"
        var name = "", typeName = "", jsonName = ""
        var number: Int32 = 0, label: Int32 = 0, type: Int32 = 0
        var oneofIndex: Int32? = nil
        var proto3Optional = false
        var deprecated = false
        var jstype: Int32 = 0
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            switch tag.number {
            case 1: name = try reader.readString(tag)
            case 3: number = try reader.readInt32(tag)
            case 4: label = try reader.readEnum(tag)
            case 5: type = try reader.readEnum(tag)
            case 6: typeName = try reader.readString(tag)
            case 8:  // FieldOptions
                var opts = try reader.nestedReader(tag)
                while let t = try opts.nextTag() {
                    switch t.number {
                    case 3: deprecated = try opts.readBool(t)
                    case 6: jstype = try opts.readEnum(t)
                    default: try opts.skip(t)
                    }
                }
            case 9: oneofIndex = try reader.readInt32(tag)
            case 10: jsonName = try reader.readString(tag)
            case 17: proto3Optional = try reader.readBool(tag)
            default: try reader.skip(tag)
            }
        }
        func encode(to writer: inout ProtoWriter) {}

        static let typeNames: [Int32: String] = [
            1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
            8: "bool", 9: "string", 10: "group", 11: "message", 12: "bytes", 13: "uint32", 14: "enum",
            15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64",
        ]
        static let labelNames: [Int32: String] = [1: "optional", 2: "required", 3: "repeated"]
    }

    struct Enum: ProtoMessage {
        static let protoMessageName = "google.protobuf.EnumDescriptorProto"
        var name = ""
        var values: [(name: String, number: Int32)] = []
        static func == (a: Enum, b: Enum) -> Bool { a.name == b.name && a.values.elementsEqual(b.values, by: ==) }
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            switch tag.number {
            case 1: name = try reader.readString(tag)
            case 2:
                var v = try reader.nestedReader(tag)
                var n = "", num: Int32 = 0
                while let t = try v.nextTag() {
                    switch t.number {
                    case 1: n = try v.readString(t)
                    case 2: num = try v.readInt32(t)
                    default: try v.skip(t)
                    }
                }
                values.append((n, num))
            default: try reader.skip(tag)
            }
        }
        func encode(to writer: inout ProtoWriter) {}
    }

    struct Service: ProtoMessage {
        static let protoMessageName = "google.protobuf.ServiceDescriptorProto"
        var name = ""
        var methods: [Method] = []
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            switch tag.number {
            case 1: name = try reader.readString(tag)
            case 2: methods.append(try reader.readMessage(tag))
            default: try reader.skip(tag)
            }
        }
        func encode(to writer: inout ProtoWriter) {}
    }

    struct Method: ProtoMessage {
        static let protoMessageName = "google.protobuf.MethodDescriptorProto"
        var name = "", inputType = "", outputType = ""
        var clientStreaming = false, serverStreaming = false
        mutating func decodeField(_ tag: FieldTag, from reader: inout ProtoReader) throws {
            switch tag.number {
            case 1: name = try reader.readString(tag)
            case 2: inputType = try reader.readString(tag)
            case 3: outputType = try reader.readString(tag)
            case 5: clientStreaming = try reader.readBool(tag)
            case 6: serverStreaming = try reader.readBool(tag)
            default: try reader.skip(tag)
            }
        }
        func encode(to writer: inout ProtoWriter) {}
    }
}
