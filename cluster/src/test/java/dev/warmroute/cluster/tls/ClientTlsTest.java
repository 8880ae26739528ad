package dev.warmroute.cluster.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.InsecureChannelCredentials;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's TLS from the environment: plaintext by default, TLS with a CA, and bad settings named. */
class ClientTlsTest {

    @TempDir
    Path dir;

    @Test
    void plaintextUnlessACaIsGivenAndMutualTlsWithACertificate() throws Exception {
        DevCertificates.Written w = DevCertificates.write(dir, List.of());
        assertInstanceOf(InsecureChannelCredentials.class, ClientTls.from(Map.of()));
        assertInstanceOf(TlsChannelCredentials.class, ClientTls.from(Map.of(ClientTls.CA, w.ca().toString())));
        assertInstanceOf(TlsChannelCredentials.class, ClientTls.from(Map.of(ClientTls.CA, w.ca().toString(),
                ClientTls.CERT, w.clientCert().toString(), ClientTls.KEY, w.clientKey().toString())));
    }

    @Test
    void badSettingsAreNamed() throws Exception {
        DevCertificates.Written w = DevCertificates.write(dir, List.of());
        Path notPem = Files.writeString(dir.resolve("tokens"), "sha256:abc alice\n");
        assertEquals("WARMROUTE_TLS_CA: " + notPem + " holds no '-----BEGIN CERTIFICATE-----' PEM block",
                assertThrows(IllegalArgumentException.class, () -> ClientTls.from(Map.of(ClientTls.CA,
                        notPem.toString()))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientTls.from(Map.of(ClientTls.CA,
                dir.resolve("absent.pem").toString()))).getMessage().startsWith("WARMROUTE_TLS_CA: cannot read"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientTls.from(Map.of(ClientTls.CERT,
                w.clientCert().toString()))).getMessage().contains("set both"));
    }

    @Test
    void aPlaintextClientOfATlsServerIsToldWhatToSet() {
        String d = ClientTls.describe(Status.UNAVAILABLE.withDescription("Network closed for unknown reason"));
        assertTrue(d.startsWith("UNAVAILABLE: Network closed for unknown reason (a TLS server? set WARMROUTE_TLS_CA")
                || System.getenv(ClientTls.CA) != null, d);
        assertEquals("NOT_FOUND: session 'x' not found", ClientTls.describe(Status.NOT_FOUND
                .withDescription("session 'x' not found")));
    }
}
