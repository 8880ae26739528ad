package dev.warmroute.engine.template;

import java.util.Arrays;

/** Concatenates int arrays. */
final class Ints {
    private int[] a = new int[32];
    private int n;

    Ints add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, n * 2);
        }
        a[n++] = v;
        return this;
    }

    Ints add(int[] vs) {
        if (n + vs.length > a.length) {
            a = Arrays.copyOf(a, Math.max(a.length * 2, n + vs.length));
        }
        System.arraycopy(vs, 0, a, n, vs.length);
        n += vs.length;
        return this;
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }

    static int[] of(int... vs) {
        return vs.clone();
    }
}
