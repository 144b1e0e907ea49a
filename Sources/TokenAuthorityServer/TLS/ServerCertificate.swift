import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The HTTPS certificate and key of `[server.tls]` (README, "Configuration: `deployment.toml`"):
/// the configured PEM files as given, or, when neither file exists, a self-signed pair generated on
/// first start (ECDSA P-256, for `localhost` and `127.0.0.1`, both files 0600).
public struct ServerCertificate: Sendable {
    public enum Origin: Sendable, Equatable {
        case configured
        case generated
    }

    public let origin: Origin
    /// SHA-256 of the leaf certificate's DER, as `AB:CD:…`: what `curl --pinnedpubkey`
    /// users and browsers compare.
    public let fingerprint: String
    let chain: [NIOSSLCertificate]
    let privateKey: NIOSSLPrivateKey

    /// How long a generated certificate is valid.
    static let generatedValidity: TimeInterval = 2 * 365 * 86400

    public static func loadOrGenerate(_ tls: DeploymentConfiguration.TLS, now: Date = Date()) throws -> ServerCertificate {
        let files = FileManager.default
        switch (files.fileExists(atPath: tls.certificate), files.fileExists(atPath: tls.privateKey)) {
        case (false, false):
            try generate(certificatePath: tls.certificate, privateKeyPath: tls.privateKey, now: now)
            return try load(tls, origin: .generated)
        case (true, true):
            return try load(tls, origin: .configured)
        case (true, false):
            throw TLSSetupError(
                "[server.tls] certificate \(tls.certificate) exists but private_key \(tls.privateKey) does not: "
                    + "provide both, or remove both to have a self-signed pair generated")
        case (false, true):
            throw TLSSetupError(
                "[server.tls] private_key \(tls.privateKey) exists but certificate \(tls.certificate) does not: "
                    + "provide both, or remove both to have a self-signed pair generated")
        }
    }

    /// The server side of TLS 1.2 and 1.3 with this pair.
    var tlsConfiguration: TLSConfiguration {
        TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
    }

    private static func load(_ tls: DeploymentConfiguration.TLS, origin: Origin) throws -> ServerCertificate {
        let certificatePEM = try readText(tls.certificate, what: "certificate")
        let keyPEM = try readText(tls.privateKey, what: "private_key")
        let leaf: Certificate
        let key: Certificate.PrivateKey
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
            leaf = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw TLSSetupError("[server.tls] certificate \(tls.certificate) is not a PEM certificate")
        }
        do {
            privateKey = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
            key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        } catch {
            throw TLSSetupError("[server.tls] private_key \(tls.privateKey) is not a PEM private key (RSA or ECDSA)")
        }
        guard !chain.isEmpty else { throw TLSSetupError("[server.tls] certificate \(tls.certificate) holds no certificate") }
        guard leaf.publicKey == key.publicKey else {
            throw TLSSetupError(
                "[server.tls] private_key \(tls.privateKey) does not belong to certificate \(tls.certificate)")
        }
        var der = DER.Serializer()
        try der.serialize(leaf)
        let fingerprint = SHA256.hash(data: der.serializedBytes).map { String(format: "%02X", $0) }.joined(separator: ":")
        return ServerCertificate(origin: origin, fingerprint: fingerprint, chain: chain, privateKey: privateKey)
    }

    /// A self-signed leaf for local use: `curl -k`, or a client that pins it.
    private static func generate(certificatePath: String, privateKeyPath: String, now: Date) throws {
        let signingKey = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(signingKey)
        let name = try DistinguishedName {
            OrganizationName("token-authority")
            CommonName("localhost")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(generatedValidity),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            // No KeyUsage: a client that pins this certificate makes it its own trust anchor,
            // and BoringSSL (swift-nio-ssl, Chrome) accepts a self-signed anchor only when no
            // KeyUsage forbids keyCertSign, which RFC 5280 in turn allows only with cA = true.
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: ArraySlice(repeating: 0, count: 15) + [1])),
                ])
            },
            issuerPrivateKey: key)
        let keyWritten = try SecretFile.createExclusively(
            path: privateKeyPath, contents: Array(signingKey.pemRepresentation.utf8))
        guard keyWritten else {
            // Another process sharing the folder generates the pair: wait for its certificate.
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: certificatePath) {
                usleep(100_000)
            }
            return
        }
        _ = try SecretFile.createExclusively(
            path: certificatePath, contents: Array(try certificate.serializeAsPEM().pemString.utf8))
    }

    private static func readText(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSSetupError("[server.tls] \(what) \(path): cannot read the file")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

public struct TLSSetupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
