package dev.metaflow.kestra.server.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A small multipart/form-data reader: what execution inputs and namespace-file uploads send. */
public final class Multipart {
    private static final Pattern BOUNDARY = Pattern.compile("boundary=(\"?)([^\";]+)\\1");
    private static final Pattern NAME = Pattern.compile("[; ]name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("filename=\"([^\"]*)\"");

    public record Part(String name, String filename, byte[] content) {
        public String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private Multipart() {
    }

    static List<Part> parse(String contentType, byte[] body) {
        Matcher boundaryMatch = BOUNDARY.matcher(contentType);
        if (!boundaryMatch.find()) {
            throw new ApiException(400, "Multipart body without a boundary");
        }
        byte[] delimiter = ("--" + boundaryMatch.group(2)).getBytes(StandardCharsets.ISO_8859_1);
        List<Part> parts = new ArrayList<>();
        int position = indexOf(body, delimiter, 0);
        while (position >= 0) {
            int start = position + delimiter.length;
            if (start + 1 < body.length && body[start] == '-' && body[start + 1] == '-') {
                break; // closing delimiter
            }
            start = skipLineBreak(body, start);
            int next = indexOf(body, delimiter, start);
            if (next < 0) {
                throw new ApiException(400, "Multipart body is truncated");
            }
            parts.add(part(Arrays.copyOfRange(body, start, stripLineBreak(body, start, next))));
            position = next;
        }
        return parts;
    }

    private static Part part(byte[] raw) {
        byte[] separator = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        int headersEnd = indexOf(raw, separator, 0);
        if (headersEnd < 0) {
            throw new ApiException(400, "Multipart part without headers");
        }
        String headers = new String(raw, 0, headersEnd, StandardCharsets.UTF_8);
        String name = null;
        String filename = null;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-disposition:")) {
                Matcher nameMatch = NAME.matcher(line);
                name = nameMatch.find() ? nameMatch.group(1) : null;
                Matcher fileMatch = FILENAME.matcher(line);
                filename = fileMatch.find() ? fileMatch.group(1) : null;
            }
        }
        if (name == null) {
            throw new ApiException(400, "Multipart part without a name");
        }
        return new Part(name, filename, Arrays.copyOfRange(raw, headersEnd + separator.length, raw.length));
    }

    private static int skipLineBreak(byte[] body, int at) {
        if (at + 1 < body.length && body[at] == '\r' && body[at + 1] == '\n') {
            return at + 2;
        }
        return at;
    }

    private static int stripLineBreak(byte[] body, int start, int end) {
        if (end - 2 >= start && body[end - 2] == '\r' && body[end - 1] == '\n') {
            return end - 2;
        }
        return end;
    }

    static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = Math.max(from, 0); i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
