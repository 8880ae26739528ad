package dev.warmroute.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which member addresses get the start-up WARN (Hazelcast open source has no TLS or authentication). */
class PrivateAddressTest {

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "10.1.2.3", "172.16.0.9", "172.31.255.1", "192.168.1.10", "169.254.3.4",
            "100.64.0.1", "100.127.255.254", "0.0.0.0", "::1", "fd00::1", "fc12::9", "fe80::1"})
    void privateAddressesAreQuiet(String address) throws Exception {
        assertTrue(HazelcastFactory.isPrivate(InetAddress.getByName(address)), address);
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2001:db8::1", "2a00:1450::1"})
    void publicAddressesWarn(String address) throws Exception {
        assertFalse(HazelcastFactory.isPrivate(InetAddress.getByName(address)), address);
    }
}
