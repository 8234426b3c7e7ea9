import Foundation
import TestSupport
import Testing

/// The whole loop with real parts: nginx on 127.0.0.1 serves the CRL folder with the shipped
/// example site; a certificate's CRL Distribution Point is fetched over HTTP, and the CRL
/// fetched refuses it once it is revoked.
@Suite(.serialized) struct CRLOverHTTPTests {
    /// nginx with the shipped site, its `listen` and `root` pointed at the test's port and folder.
    final class Nginx: @unchecked Sendable {
        let process = Process()
        let directory: TemporaryDirectory

        init(port: UInt16, root: String) throws {
            directory = try TemporaryDirectory(prefix: "dropca-nginx")
            let site = try ShippedFiles.text(ShippedFiles.path("etc/nginx/dropca-pki.conf"))
                .replacingOccurrences(of: "    listen 80;\n", with: "    listen 127.0.0.1:\(port);\n")
                .replacingOccurrences(of: "    listen [::]:80;\n", with: "")
                .replacingOccurrences(of: "root /var/lib/dropca/public;", with: "root \(root);")
            try site.write(toFile: directory.path("site.conf"), atomically: true, encoding: .utf8)
            let prefix = directory.url.path
            // Workers as root only because the test's folders are private temporary ones;
            // the shipped site itself sets no user.
            let main = """
                daemon off;
                user root;
                pid \(prefix)/nginx.pid;
                error_log \(prefix)/error.log;
                events {}
                http {
                    access_log off;
                    client_body_temp_path \(prefix)/body;
                    proxy_temp_path \(prefix)/proxy;
                    fastcgi_temp_path \(prefix)/fastcgi;
                    uwsgi_temp_path \(prefix)/uwsgi;
                    scgi_temp_path \(prefix)/scgi;
                    include \(prefix)/site.conf;
                }
                """
            try main.write(toFile: directory.path("nginx.conf"), atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
            process.arguments = ["-p", prefix, "-c", directory.path("nginx.conf")]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
    }

    static func fetch(_ url: String, into path: String) throws -> (status: Int, contentType: String) {
        let result = try ExternalTool.run("curl", ["-sS", "-o", path, "-w", "%{http_code} %{content_type}", url])
        let parts = result.stdout.split(separator: " ", maxSplits: 1)
        return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "")
    }

    @Test(.timeLimit(.minutes(10)))
    func aCertificatesCRLDistributionPointServesACRLThatRefusesItOnceRevoked() throws {
        let port = try SFTPTestServer.freePort()
        let base = "http://127.0.0.1:\(port)"
        let daemon = try DaemonHarness(settings: [
            "settle_seconds": "0.5", "rescan_seconds": "0",
            "crl_url": "\"\(base)/ca.crl\"", "ca_issuers_url": "\"\(base)/ca.cer\"",
        ])
        try daemon.start()
        let nginx = try Nginx(port: port, root: daemon.root + "/public")
        defer { withExtendedLifetime(nginx) {} }

        try daemon.drop("gateway.csr", SampleRequests.p256)
        try daemon.waitForCertificates(["gateway"])
        let certificate = try #require(daemon.certificate("gateway"))
        let extensions = try ExternalTool.run("openssl", ["x509", "-inform", "DER", "-noout", "-ext", "crlDistributionPoints"], stdin: certificate).stdout
        let match = try #require(extensions.range(of: #"URI:\S+"#, options: .regularExpression), "\(extensions)")
        let crlURL = String(extensions[match].dropFirst("URI:".count))
        #expect(crlURL == "\(base)/ca.crl")

        let folder = try TemporaryDirectory(prefix: "dropca-fetched")
        let caPath = daemon.root + "/ca/ca.pem"
        var fetched = folder.path("before.crl")
        try daemon.waitFor("nginx to serve the CRL", timeout: 10) { ((try? Self.fetch(crlURL, into: fetched))?.status ?? 0) == 200 }
        let before = try Self.fetch(crlURL, into: fetched)
        #expect(before.contentType == "application/pkix-crl", "\(before)")
        let unrevoked = try CRLCheckers.verify(certificateDER: certificate, caCertificatePath: caPath, crlDER: [UInt8](try Data(contentsOf: URL(fileURLWithPath: fetched))))
        #expect(unrevoked.succeeded, "\(unrevoked.output)")

        let serial = try DaemonRevocationTests.serial(of: "gateway", in: daemon)
        let revoke = try DropCABinary.run(["revoke", "--config", daemon.config, "--reason", "keyCompromise", serial])
        #expect(revoke.status == 0, "\(revoke.output)")
        fetched = folder.path("after.crl")
        let after = try Self.fetch(crlURL, into: fetched)
        #expect(after.status == 200 && after.contentType == "application/pkix-crl", "\(after)")
        let crl = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fetched)))
        #expect(try CRLCheckers.problems(crlDER: crl, caCertificatePath: caPath) == [])
        let refused = try CRLCheckers.verify(certificateDER: certificate, caCertificatePath: caPath, crlDER: crl)
        #expect(!refused.succeeded && refused.output.contains("certificate revoked"), "\(refused.output)")

        let issuer = try Self.fetch("\(base)/ca.cer", into: folder.path("ca.cer"))
        #expect(issuer.status == 200 && issuer.contentType == "application/pkix-cert", "\(issuer)")
        let other = try Self.fetch("\(base)/ledger.sqlite", into: folder.path("nothing"))
        #expect(other.status == 404)
        #expect(try daemon.stop() == 0)
    }
}
