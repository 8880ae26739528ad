package dev.warmroute.cluster.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {

    @TempDir
    Path dir;

    @Test
    void aListedTokenIsItsPrincipalAndTheFileHoldsOnlyItsHash() throws Exception {
        String alice = TokenFile.newToken();
        String ops = TokenFile.newToken();
        Path f = dir.resolve("tokens");
        Files.writeString(f, "# comment\n\n" + TokenFile.hashLine(alice, "alice", false) + "\n"
                + TokenFile.hashLine(ops, "ops@example", true) + "\n");
        TokenFile tokens = TokenFile.load(f);
        assertEquals(new Principal("alice", false), tokens.authenticate(alice));
        assertEquals(new Principal("ops@example", true), tokens.authenticate(ops));
        assertFalse(Files.readString(f).contains(alice), "the file never holds a token");
        assertTrue(alice.startsWith("wr_") && alice.length() == 46, alice);
    }

    @Test
    void anUnknownOrOversizedTokenIsUnauthenticated() throws Exception {
        Path f = dir.resolve("tokens");
        Files.writeString(f, TokenFile.hashLine("secret-one", "alice", false) + "\n");
        TokenFile tokens = TokenFile.load(f);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> tokens.authenticate("secret-two"));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("authorization: unknown token"));
        e = assertThrows(StatusRuntimeException.class, () -> tokens.authenticate("x".repeat(5000)));
        assertTrue(e.getStatus().getDescription().contains("longer than 4096"), e.getStatus().getDescription());
    }

    @Test
    void aMalformedFileNamesTheLineAtStart() throws Exception {
        Path f = dir.resolve("tokens");
        Files.writeString(f, "# ok\nsha256:abc alice\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenFile.load(f));
        assertTrue(e.getMessage().contains("tokens:2: expected 'sha256:<64 hex digits> PRINCIPAL [admin]'"),
                e.getMessage());
        Files.writeString(f, "sha256:" + "a".repeat(64) + " has/slash\n");
        e = assertThrows(IllegalArgumentException.class, () -> TokenFile.load(f));
        assertTrue(e.getMessage().contains("tokens:1: principal: must be"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TokenFile.load(dir.resolve("absent")));
        assertTrue(e.getMessage().startsWith("--auth-tokens: cannot read"), e.getMessage());
    }

    @Test
    void aChangedFileIsReadAgainAndABrokenOneKeepsTheLastGoodTokens() throws Exception {
        Path f = dir.resolve("tokens");
        Files.writeString(f, TokenFile.hashLine("first", "alice", false) + "\n");
        TokenFile tokens = TokenFile.load(f, 0); // look at the file on every call
        Files.writeString(f, TokenFile.hashLine("second", "bob", false) + "\n");
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals("bob", tokens.authenticate("second").name());
        assertThrows(StatusRuntimeException.class, () -> tokens.authenticate("first"), "revoked by removing its line");

        Files.writeString(f, "this is not a token line\n");
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(10)));
        assertEquals("bob", tokens.authenticate("second").name(), "a broken file keeps the last good tokens");
        Files.writeString(f, TokenFile.hashLine("third", "carol", true) + "\n");
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(15)));
        assertEquals(new Principal("carol", true), tokens.authenticate("third"), "and the next good one is read");
    }

}
