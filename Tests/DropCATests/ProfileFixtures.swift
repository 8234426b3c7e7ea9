import Foundation
import TestSupport

/// What the profile tests share: a root and an intermediate CA made by `openssl` (so that
/// `ca.chain` has something to hold), a second profile's folders and table added to a
/// harness's configuration, and the checks that every output file is what its format
/// promises, judged by `openssl` alone.
enum ProfileFixtures {
    /// A root CA and an intermediate it signed (both P-256, with the extensions
    /// `openssl verify -x509_strict` wants), in `directory`: `root.pem`, `intermediate.pem`,
    /// `intermediate.key`.
    struct TwoLevelCA {
        let root: String
        let intermediate: String
        let intermediateKey: String

        init(in directory: TemporaryDirectory) throws {
            root = directory.path("root.pem")
            intermediate = directory.path("intermediate.pem")
            intermediateKey = directory.path("intermediate.key")
            let extensions = directory.path("ca.ext")
            try """
            [ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            """.write(toFile: extensions, atomically: true, encoding: .utf8)
            let steps: [[String]] = [
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", directory.path("root.key"),
                 "-subj", "/CN=dropca test root", "-days", "800", "-out", root,
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", intermediateKey,
                 "-subj", "/CN=dropca test intermediate", "-out", directory.path("intermediate.csr")],
                ["x509", "-req", "-in", directory.path("intermediate.csr"), "-CA", root, "-CAkey", directory.path("root.key"),
                 "-CAcreateserial", "-days", "700", "-extfile", extensions, "-extensions", "ca", "-out", intermediate],
            ]
            for arguments in steps {
                let result = try ExternalTool.run("openssl", arguments)
                guard result.succeeded else { throw HarnessError("openssl \(arguments.prefix(2)): \(result.output)") }
            }
        }
    }

    /// `[profiles.NAME]` with `body` (lines of its own table) and its folders under
    /// `daemon.root/NAME/`, which are made; `sections` are further tables
    /// (`[profiles.NAME.certificate]` and the like, written out).
    static func addProfile(_ name: String, to daemon: DaemonHarness, body: String = "", sections: String = "") throws {
        for folder in ["inbox", "outbox", "failed"] {
            try FileManager.default.createDirectory(atPath: daemon.root + "/\(name)/\(folder)", withIntermediateDirectories: true)
        }
        var text = try String(contentsOfFile: daemon.config, encoding: .utf8)
        text += """

        [profiles.\(name)]
        \(body)
        [profiles.\(name).spool]
        inbox = "\(name)/inbox"
        outbox = "\(name)/outbox"
        failed = "\(name)/failed"
        \(sections)

        """
        try text.write(toFile: daemon.config, atomically: true, encoding: .utf8)
    }

    static func folder(_ daemon: DaemonHarness, _ profile: String, _ folder: String) -> String {
        daemon.root + "/\(profile)/\(folder)"
    }

    /// The visible entries of `folder`, sorted: what an appliance's `ls` shows.
    static func outputs(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The DER of the (first) certificate in a PEM file, converted by `openssl x509`.
    static func der(ofPEM path: String) throws -> [UInt8] {
        let out = path + ".der"
        let result = try ExternalTool.run("openssl", ["x509", "-in", path, "-outform", "DER", "-out", out])
        guard result.succeeded, let data = FileManager.default.contents(atPath: out) else { throw HarnessError("openssl x509 \(path): \(result.output)") }
        try? FileManager.default.removeItem(atPath: out)
        return [UInt8](data)
    }

    /// A P-256 request for `subject`, made by `openssl req`.
    static func request(subject: String) -> [UInt8] {
        SampleRequests.make(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], subject: subject)
    }

    /// The subjects of the certificates in a PEM or PKCS#7 file, in order, as `openssl`
    /// prints them (`subject=CN = …`).
    static func subjects(ofPEM path: String) throws -> [String] {
        let pkcs7 = try ExternalTool.run("openssl", ["crl2pkcs7", "-nocrl", "-certfile", path])
        guard pkcs7.succeeded else { throw HarnessError("crl2pkcs7 \(path): \(pkcs7.output)") }
        let printed = try ExternalTool.run("openssl", ["pkcs7", "-print_certs", "-noout"], stdin: Array(pkcs7.stdout.utf8))
        return printed.stdout.split(separator: "\n").filter { $0.hasPrefix("subject=") }.map(String.init)
    }

    static func subjects(ofPKCS7 path: String) throws -> [String] {
        let printed = try ExternalTool.run("openssl", ["pkcs7", "-inform", "DER", "-in", path, "-print_certs", "-noout"])
        guard printed.succeeded else { throw HarnessError("openssl pkcs7 \(path): \(printed.output)") }
        return printed.stdout.split(separator: "\n").filter { $0.hasPrefix("subject=") }.map(String.init)
    }

    /// What is wrong with the files `folder/STEM` + each output's suffix: each must exist,
    /// carry the same certificate (the DER one's), verify against `anchor` with
    /// `intermediates` (the issuing CA, when it is not the anchor itself), and, for
    /// `pem-chain` and `p7b`, hold the certificate then `chain` (subjects, in order).
    static func outputProblems(folder: String, stem: String, outputs: [String], anchor: String, untrusted: String?,
                               chain: [String]) throws -> [String] {
        var problems: [String] = []
        let base = folder + "/" + stem
        var leafPEM: String?
        func verify(_ pem: String, _ what: String) throws {
            var arguments = ["verify", "-x509_strict", "-CAfile", anchor]
            if let untrusted { arguments += ["-untrusted", untrusted] }
            let result = try ExternalTool.run("openssl", arguments + [pem])
            if !(result.succeeded && result.stdout.contains(": OK")) { problems.append("\(what): openssl verify: \(result.output)") }
        }
        func leaf(of path: String, inform: String) throws -> String? {
            let out = path + ".leaf.pem"
            let result = try ExternalTool.run("openssl", ["x509", "-inform", inform, "-in", path, "-out", out])
            guard result.succeeded else {
                problems.append("\(path): not a certificate: \(result.output)")
                return nil
            }
            return try String(contentsOfFile: out, encoding: .utf8)
        }
        for output in outputs {
            switch output {
            case "der":
                guard let pem = try leaf(of: base + ".cer", inform: "DER") else { continue }
                leafPEM = leafPEM ?? pem
                if pem != leafPEM { problems.append("\(stem).cer: another certificate") }
                try verify(base + ".cer.leaf.pem", "\(stem).cer")
            case "pem":
                guard let pem = try leaf(of: base + ".pem", inform: "PEM") else { continue }
                leafPEM = leafPEM ?? pem
                if pem != leafPEM { problems.append("\(stem).pem: another certificate") }
                let whole = try String(contentsOfFile: base + ".pem", encoding: .utf8)
                if whole.components(separatedBy: "BEGIN CERTIFICATE").count != 2 { problems.append("\(stem).pem: more than the certificate") }
                try verify(base + ".pem", "\(stem).pem")
            case "pem-chain":
                guard let pem = try leaf(of: base + ".chain.pem", inform: "PEM") else { continue }
                leafPEM = leafPEM ?? pem
                if pem != leafPEM { problems.append("\(stem).chain.pem: another certificate first") }
                let subjects = try Self.subjects(ofPEM: base + ".chain.pem")
                if Array(subjects.dropFirst()) != chain { problems.append("\(stem).chain.pem: after the certificate \(subjects.dropFirst()), not \(chain)") }
                try verify(base + ".chain.pem.leaf.pem", "\(stem).chain.pem")
            case "p7b":
                let subjects = try Self.subjects(ofPKCS7: base + ".p7b")
                if Array(subjects.dropFirst()) != chain { problems.append("\(stem).p7b: after the certificate \(subjects.dropFirst()), not \(chain)") }
                let printed = try ExternalTool.run("openssl", ["pkcs7", "-inform", "DER", "-in", base + ".p7b", "-print_certs"])
                let first = printed.stdout.components(separatedBy: "-----END CERTIFICATE-----").first.map { $0 + "-----END CERTIFICATE-----\n" } ?? ""
                let firstPEM = first.components(separatedBy: "-----BEGIN CERTIFICATE-----").last.map { "-----BEGIN CERTIFICATE-----" + $0 } ?? ""
                if let leafPEM, firstPEM != leafPEM { problems.append("\(stem).p7b: another certificate first") }
            default:
                problems.append("unknown output \(output)")
            }
        }
        return problems
    }
}
