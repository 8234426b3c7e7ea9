internal import COpenSSL

extension IssuancePolicy {
    /// Refuses self-signatures made with broken digests, then verifies the signature:
    /// the request's proof that its sender holds the private key.
    ///
    /// The digest is checked first so the reason names the real problem ("MD5") rather
    /// than a verification failure that would follow from OpenSSL's own refusals.
    func checkSignature(of request: SigningRequest, key: SubjectPublicKey) throws(Rejection) {
        guard let algorithm = request.signatureAlgorithm else {
            throw Rejection(.unparseable, "the request has no signature algorithm")
        }
        let nid = OBJ_obj2nid(algorithm.pointee.algorithm)
        // Only rejection reasons name the algorithm, so it is described only for them.
        let algorithmName = { OpenSSLBytes.describe(algorithm.pointee.algorithm) }

        if nid == NID_rsassaPss {
            for digest in pssDigests(algorithm) {
                try checkDigest(digest, algorithmName: "RSA-PSS with \(digestName(digest))")
            }
        } else {
            var digest: Int32 = NID_undef
            var keyType: Int32 = NID_undef
            guard OBJ_find_sigid_algs(nid, &digest, &keyType) == 1 else {
                throw Rejection(.badSignature, "signature algorithm \(algorithmName()) is not one dropca can verify")
            }
            try checkDigest(digest, algorithmName: algorithmName())
        }

        OpenSSLError.clear()
        // In the default library context: the request itself was parsed in one without
        // algorithms (StructureOnlyContext).
        let verified = X509_REQ_verify_ex(request.pointer, key.pointer, nil, nil)
        guard verified == 1 else {
            let error = OpenSSLError.drain("verifying the request signature")
            throw Rejection(.badSignature, "the request's self-signature does not verify with its own public key (no proof of possession)", details: error.reasons)
        }
    }

    private func checkDigest(_ digest: Int32, algorithmName: @autoclosure () -> String) throws(Rejection) {
        switch digest {
        case NID_md2, NID_md4, NID_md5, NID_md5_sha1, NID_mdc2:
            throw Rejection(.weakSignatureAlgorithm, "the request is signed with \(algorithmName()), a broken digest; sign it with SHA-256 or better")
        case NID_sha1:
            if !allowSHA1CSRSignature {
                throw Rejection(.weakSignatureAlgorithm, "the request is signed with SHA-1 (\(algorithmName())), refused while policy.allow_sha1_csr_signature = false")
            }
        default:
            break
        }
    }

    /// The message digest and the MGF1 digest of RSASSA-PSS parameters; both default to
    /// SHA-1 when absent (RFC 4055).
    private func pssDigests(_ algorithm: UnsafePointer<X509_ALGOR>) -> [Int32] {
        var parameterType: Int32 = V_ASN1_UNDEF
        var parameter: UnsafeRawPointer? = nil
        X509_ALGOR_get0(nil, &parameterType, &parameter, algorithm)
        guard parameterType == V_ASN1_SEQUENCE, let parameter else { return [NID_sha1] }
        let sequence = parameter.assumingMemoryBound(to: ASN1_STRING.self)
        guard let data = ASN1_STRING_get0_data(sequence) else { return [NID_sha1] }
        var cursor: UnsafePointer<UInt8>? = data
        guard let params = d2i_RSA_PSS_PARAMS(nil, &cursor, Int(ASN1_STRING_length(sequence))) else {
            // Unparseable parameters: verification will fail and say so.
            return []
        }
        defer { RSA_PSS_PARAMS_free(params) }
        let hash = params.pointee.hashAlgorithm.map { OBJ_obj2nid($0.pointee.algorithm) } ?? NID_sha1
        let maskHash = params.pointee.maskGenAlgorithm.map { mgf1Digest($0) } ?? NID_sha1
        return [hash, maskHash]
    }

    /// The digest inside an MGF1 AlgorithmIdentifier, whose parameter is itself an
    /// AlgorithmIdentifier; OpenSSL leaves it encoded after parsing the PSS parameters.
    private func mgf1Digest(_ maskGen: UnsafeMutablePointer<X509_ALGOR>) -> Int32 {
        var parameterType: Int32 = V_ASN1_UNDEF
        var parameter: UnsafeRawPointer? = nil
        X509_ALGOR_get0(nil, &parameterType, &parameter, maskGen)
        guard parameterType == V_ASN1_SEQUENCE, let parameter else { return NID_sha1 }
        let sequence = parameter.assumingMemoryBound(to: ASN1_STRING.self)
        guard let data = ASN1_STRING_get0_data(sequence) else { return NID_sha1 }
        var cursor: UnsafePointer<UInt8>? = data
        guard let hash = d2i_X509_ALGOR(nil, &cursor, Int(ASN1_STRING_length(sequence))) else { return NID_undef }
        defer { X509_ALGOR_free(hash) }
        return OBJ_obj2nid(hash.pointee.algorithm)
    }

    private func digestName(_ nid: Int32) -> String {
        guard let name = OBJ_nid2sn(nid) else { return "digest NID \(nid)" }
        return String(cString: name)
    }
}
