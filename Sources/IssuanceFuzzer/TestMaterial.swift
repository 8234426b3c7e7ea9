// Keys and a CA certificate made for the fuzz target only and used nowhere else; test
// material, safe to publish. Embedded so that a fuzzer binary needs no files and every
// run, on every machine, works with the same keys.

/// The fixed signing CA of the fuzz target: an EC P-256 CA made for this purpose only
/// (never used anywhere else).
///
/// Made with:
///   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
///     -subj "/O=dropca fuzzing/CN=dropca IssuanceFuzzer test CA" \
///     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
/// Valid from 2026-11-29 to 2126-11-05.
enum FuzzTestCA {
    static let certificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIB6DCCAY+gAwIBAgIUbwrV7vjBMY8gCcrdI8hzIKCllTIwCgYIKoZIzj0EAwIw
        QTEXMBUGA1UECgwOZHJvcGNhIGZ1enppbmcxJjAkBgNVBAMMHWRyb3BjYSBJc3N1
        YW5jZUZ1enplciB0ZXN0IENBMCAXDTI2MTEyOTAxMTIyOFoYDzIxMjYxMTA1MDEx
        MjI4WjBBMRcwFQYDVQQKDA5kcm9wY2EgZnV6emluZzEmMCQGA1UEAwwdZHJvcGNh
        IElzc3VhbmNlRnV6emVyIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
        AARtPFswhtzSQeNCFf89mVQ6aM00MwPF11F8TshLZDeFOIfj3RDilw6Kx7wcbRnm
        yWZX3DgJpgkuKZlKLwcYzCJvo2MwYTAdBgNVHQ4EFgQUaDgOz2Nl7w3VuiSQt2+Q
        ChmnPG4wHwYDVR0jBBgwFoAUaDgOz2Nl7w3VuiSQt2+QChmnPG4wDwYDVR0TAQH/
        BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwIDRwAwRAIgZSLx/FC9
        lOUbRuTCHSJQhjDNL7yxoKy9t4wgH8Zq2SUCIAMh6a1oYWozLJsNG6j/swTJ3/gc
        jP6OFIPgXFIqBz+F
        -----END CERTIFICATE-----

        """

    static let privateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4OdkGRmP7/08eM/N
        hGzwSgkeMRGoGrVZcfPZnziymMuhRANCAARtPFswhtzSQeNCFf89mVQ6aM00MwPF
        11F8TshLZDeFOIfj3RDilw6Kx7wcbRnmyWZX3DgJpgkuKZlKLwcYzCJv
        -----END PRIVATE KEY-----

        """
}

/// Keys the fuzz target signs mutated requests with again (CustomMutator.swift), so that
/// inputs whose self-signature a mutation broke still reach the code after the signature
/// check. Made with `openssl genpkey` (EC P-256, ED25519, RSA 1024 bits: small, so signing
/// is cheap; the default policy refuses it and the permissive one takes it).
enum FuzzRequestKeys {
    static let p256PEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgoxI09TIm3IB3wxjZ
        CbiPUgEAXnX/Z3UQ9fWUs2M2lYWhRANCAARzii79yu6wWvNdwPzB/X/au1IWxqrl
        s41Np8zeWRIoe/75rLplF+lZCB9UtOh3axsMitkFlvoRfWFXKoilkFEr
        -----END PRIVATE KEY-----

        """

    static let ed25519PEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIK3RsKVSNR0hKnZAA+9G67UUXlskO7jOljAxlSLi0y2m
        -----END PRIVATE KEY-----

        """

    static let rsa1024PEM = """
        -----BEGIN PRIVATE KEY-----
        MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALdzXLOxDdTJBMn/
        m1+Hbh55KimvCcHBdT7v3Mcz5GM3HaQrFbezYGaRB7HUuijv3MLyxrE+5QYXUIDm
        EPie9cWKgorlvuC7E41Z2GKAYcPfNom23baI29kIgjBjbNKDA6jrrTzChzD337D/
        gMtR0Ik07/ktBB130vomeLtAOAclAgMBAAECgYBygayMcOiMOAkoOMb3wuYGWWTq
        7dnuOd4AMeIh6Q8WqtFypn4A0xNKEh62bmzgno+yk61X90UnHyhdvL09IqOO4Mj4
        GNpnCdP1MT8szcQTYFhTVFkCA3LnkMj6+sSzp/I0StAYigVwk5/hfe1BI0JclgXW
        F6cQPeyo/OSb8Stt4QJBAPMfUAittNk+uhmS8uET4gZp6rpI9QutKJQcx6kq6Yjp
        xDFg9icLoU1qfFcXb9wjj6/EhCw8IQf2dwlx+uCzdHkCQQDBKun/XVVIxu6dzwhR
        +tyEwtxGNJqpMJkQWDGGxiqB+Llb55ZKfZD5MCcyqSh9kf2hHaNw+02axHtLJqzP
        ysUNAkEAvF/nqEHHXYhfs48Lh1/bgnKwv9Ploj1xsok2Hpo0RrQyIrxpHUnCmnRG
        kUiEkIIxQ9Q1QPz57uyFwRjCdTY2qQJAIB2SafKKi18HrRUOvRKIN0pudP2p+Rcr
        W5xOH6oyxwkjSDRouFnIEKYA3lthb/8lu/PBiLc/X8vq88OqV6HOwQJAd3IhCl7V
        cPyRqR797doGaDiL/ac4USc25SW0spoj5pdEUuUhYQuBFJuqinybvULQULfkD3EY
        rUMufnIrdqkPUg==
        -----END PRIVATE KEY-----

        """
}
