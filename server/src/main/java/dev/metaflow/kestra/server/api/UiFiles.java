package dev.metaflow.kestra.server.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * The web UI's files (a Vite build: index.html and hashed assets), served under /ui/ to anyone,
 * as Kestra serves its UI's page: the page holds no data, and every call it makes to the API
 * carries the user's credentials. The root redirects to /ui/.
 */
final class UiFiles {
    // Names a Vite build writes: no "..", no hidden files, no escapes.
    private static final Pattern NAME = Pattern.compile("([A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*");
    private static final Map<String, String> TYPES = Map.ofEntries(
        Map.entry("html", "text/html; charset=utf-8"),
        Map.entry("js", "text/javascript; charset=utf-8"),
        Map.entry("mjs", "text/javascript; charset=utf-8"),
        Map.entry("css", "text/css; charset=utf-8"),
        Map.entry("json", "application/json"),
        Map.entry("svg", "image/svg+xml"),
        Map.entry("png", "image/png"),
        Map.entry("ico", "image/x-icon"),
        Map.entry("woff", "font/woff"),
        Map.entry("woff2", "font/woff2"),
        Map.entry("ttf", "font/ttf"),
        Map.entry("map", "application/json"));
    /** The page may not be framed by another site (clickjacking); nothing may sniff a type. */
    private static final Map<String, String> PAGE_HEADERS = Map.of(
        "Cache-Control", "no-cache",
        "X-Frame-Options", "DENY",
        "Content-Security-Policy", "frame-ancestors 'none'",
        "X-Content-Type-Options", "nosniff",
        "Referrer-Policy", "same-origin");
    private static final Map<String, String> ASSET_HEADERS = Map.of(
        "Cache-Control", "public, max-age=31536000, immutable",   // hashed names: a new build, new names
        "X-Content-Type-Options", "nosniff");

    private static final Set<String> COMPRESSED = Set.of("html", "js", "mjs", "css", "json", "svg", "map", "ttf");

    private final Path root;
    private final Map<Path, byte[]> gzipped = new ConcurrentHashMap<>();

    UiFiles(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    static boolean isUiPath(String rawPath) {
        return rawPath.equals("/") || rawPath.equals("/ui") || rawPath.startsWith("/ui/");
    }

    Response serve(String method, String rawPath, String acceptEncoding) throws IOException {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw new ApiException(405, "Method Not Allowed: the UI's files are read with GET");
        }
        if (!rawPath.startsWith("/ui/")) {
            return new Response(302, null, new byte[0]).withHeaders(Map.of("Location", "/ui/"));
        }
        String name = rawPath.substring("/ui/".length());
        String last = name.substring(name.lastIndexOf('/') + 1);
        if (!last.contains(".")) {
            // A page's address, such as Kestra's /ui/main/executions/<namespace>/<flow>/<id>: the app
            // reads it and shows that view, so a link printed for Kestra's UI opens here too.
            name = "index.html";
        }
        if (!NAME.matcher(name).matches()) {
            throw new ApiException(404, "Not Found");
        }
        Path file = root.resolve(name).normalize();
        if (!file.startsWith(root) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new ApiException(404, "Not Found");
        }
        String extension = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        String type = TYPES.getOrDefault(extension, "application/octet-stream");
        boolean page = extension.equals("html");
        Map<String, String> headers = new HashMap<>(page ? PAGE_HEADERS : ASSET_HEADERS);
        if (COMPRESSED.contains(extension) && acceptEncoding != null && acceptEncoding.contains("gzip")) {
            headers.put("Content-Encoding", "gzip");
            headers.put("Vary", "Accept-Encoding");
            return new Response(200, type, gzipped(file)).withHeaders(headers);
        }
        InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
        return Response.streamed(200, type, in).withHeaders(headers);
    }

    /** A text file gzipped once: a build's files never change (a new build is a new folder). */
    private byte[] gzipped(Path file) {
        return gzipped.computeIfAbsent(file, path -> {
            try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
                    in.transferTo(gzip);
                }
                return bytes.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
