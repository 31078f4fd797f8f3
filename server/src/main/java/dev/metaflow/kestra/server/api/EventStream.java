package dev.metaflow.kestra.server.api;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * What a following endpoint writes: events until it returns. Kestra's web server (Micronaut)
 * writes each event as {@code id: <id>} and {@code data: <compact JSON>} lines, with no event
 * names; a client that went away surfaces as an IOException from {@link Sink#send}.
 */
@FunctionalInterface
public interface EventStream {
    void write(Sink sink) throws Exception;

    /** One open stream to one client. */
    final class Sink {
        private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

        private final OutputStream out;

        Sink(OutputStream out) {
            this.out = out;
        }

        public void send(String id, Object data) throws IOException {
            String json = new String(Json.bytes(data), StandardCharsets.UTF_8);
            out.write(("id: " + id + "\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        /**
         * An SSE comment, which every client skips: it finds out whether the client is still
         * there, so a quiet stream does not hold a thread for the hour Kestra allows between events.
         */
        public void keepAlive() throws IOException {
            out.write(KEEP_ALIVE);
            out.flush();
        }
    }
}
