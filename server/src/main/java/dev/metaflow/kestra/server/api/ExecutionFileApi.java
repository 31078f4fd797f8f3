package dev.metaflow.kestra.server.api;

import com.fasterxml.jackson.databind.MappingIterator;
import io.kestra.core.models.executions.Execution;
import io.kestra.core.repositories.ExecutionRepositoryInterface;
import io.kestra.core.serializers.JacksonMapper;
import io.kestra.core.storages.StorageInterface;
import io.kestra.core.utils.Slugify;
import io.micronaut.context.ApplicationContext;

import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An execution's files in Kestra's internal storage (task output files, FILE inputs), as
 * Kestra's ExecutionController serves them (1.3 and 2.0 read):
 * <ul>
 *   <li>{@code GET /executions/{id}/file?path=kestra:///...}: the bytes, as an attachment;</li>
 *   <li>{@code GET /executions/{id}/file/preview?path=&maxRows=&encoding=}: a rendering Kestra's
 *   UI shows, {@code {extension, type, content, maxLine, truncated}}.</li>
 * </ul>
 * A path must lie under the execution's own folder ({@code /<namespace as folders>/<flow
 * slug>/executions/<id>}) or its flow's state store. A path under another execution's folder is
 * redirected there (301) for a download; anything else is 422 "Invalid prefix path". Only
 * {@code kestra://} paths are served: Kestra refuses {@code file://} unless local previews are
 * enabled, which this server never does.
 */
final class ExecutionFileApi {
    private static final Pattern OTHER_EXECUTION = Pattern.compile("^/(.+)/executions/([^/]+)/");
    private static final Set<String> IMAGES = Set.of("jpg", "jpeg", "png", "svg", "gif", "bmp", "webp");
    private static final int DEFAULT_ROWS = 100;
    private static final int MAX_ROWS = 5000;
    /** As Kestra's text rendering: past 2 MB a preview is cut, and says so. */
    private static final int MAX_TEXT_BYTES = 2 * 1024 * 1024;

    private final ExecutionRepositoryInterface executions;
    private final StorageInterface storage;

    ExecutionFileApi(ApplicationContext context) {
        this.executions = context.getBean(ExecutionRepositoryInterface.class);
        this.storage = context.getBean(StorageInterface.class);
    }

    void register(ApiServer api) {
        api.add("GET", "/api/v1/{tenant}/executions/{executionId}/file", this::download);
        api.add("GET", "/api/v1/{tenant}/executions/{executionId}/file/preview", this::preview);
    }

    private Response download(Request request) throws IOException {
        Execution execution = existing(request);
        URI path = path(request);
        Optional<String> elsewhere = otherExecution(execution, path);
        if (elsewhere.isPresent()) {
            String location = "/api/v1/" + request.tenant() + "/executions/" + elsewhere.get() + "/file?path="
                + URLEncoder.encode(path.toString(), StandardCharsets.UTF_8);
            return new Response(301, null, new byte[0]).withHeaders(Map.of("Location", location));
        }
        String name = baseName(path);
        String disposition = "attachment; filename=\"" + name.replace("\"", "") + "\"; filename*=utf-8''"
            + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        return Response.streamed(200, "application/octet-stream", read(execution, path))
            .withHeaders(Map.of("Content-Disposition", disposition));
    }

    private Map<String, Object> preview(Request request) throws IOException {
        Execution execution = existing(request);
        URI path = path(request);
        otherExecution(execution, path);   // Kestra validates, then previews even another execution's file
        int maxLine = Math.min(Math.max(request.intQuery("maxRows", DEFAULT_ROWS), 1), MAX_ROWS);
        Charset charset;
        try {
            charset = Charset.forName(request.query("encoding").orElse("UTF-8"));
        } catch (IllegalArgumentException e) {
            throw ApiException.illegalArgument("Unknown encoding '" + request.query("encoding").orElse("") + "'");
        }
        String name = baseName(path);
        int dot = name.lastIndexOf('.');
        String extension = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("extension", extension);
        try (InputStream in = read(execution, path)) {
            if (IMAGES.contains(extension) || extension.equals("pdf")) {
                answer.put("type", extension.equals("pdf") ? "PDF" : "IMAGE");
                answer.put("content", Base64.getEncoder().encodeToString(in.readAllBytes()));
                answer.put("truncated", false);
            } else if (extension.equals("ion")) {
                List<Object> rows = new ArrayList<>();
                boolean truncated = false;
                try (MappingIterator<Object> values = JacksonMapper.ofIon().readerFor(Object.class).readValues(in)) {
                    while (values.hasNext()) {
                        if (rows.size() == maxLine) {
                            truncated = true;
                            break;
                        }
                        rows.add(values.next());
                    }
                }
                answer.put("type", "LIST");
                answer.put("content", rows);
                answer.put("truncated", truncated);
            } else {
                Text text = text(in, extension.equals("md") ? StandardCharsets.UTF_8 : charset, maxLine);
                answer.put("type", extension.equals("md") ? "MARKDOWN" : "TEXT");
                answer.put("content", text.content());
                answer.put("truncated", text.truncated());
            }
        }
        answer.put("maxLine", maxLine);
        return answer;
    }

    private record Text(String content, boolean truncated) {
    }

    private static Text text(InputStream in, Charset charset, int maxLine) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, charset));
        StringBuilder content = new StringBuilder();
        int lines = 0;
        String line;
        while ((line = reader.readLine()) != null) {
            if (lines == maxLine || content.length() + line.length() > MAX_TEXT_BYTES) {
                return new Text(content.toString(), true);
            }
            if (lines > 0) {
                content.append('\n');
            }
            content.append(line);
            lines++;
        }
        return new Text(content.toString(), false);
    }

    private Execution existing(Request request) {
        String id = request.path("executionId");
        return executions.findById(request.tenant(), id)
            .orElseThrow(() -> ApiException.notFound("Unable to find execution " + id));
    }

    private static URI path(Request request) {
        String raw = request.query("path").orElseThrow(() -> new ApiException(400, "Bad Request: Required QueryValue [path] not specified"));
        URI path;
        try {
            path = URI.create(raw);
        } catch (IllegalArgumentException e) {
            throw ApiException.illegalArgument("Invalid path '" + raw + "'");
        }
        if ("file".equals(path.getScheme())) {
            throw new ApiException(403, "Forbidden: local files are not served (Kestra's local-files preview is off)");
        }
        if (!"kestra".equals(path.getScheme()) || path.getPath() == null) {
            throw ApiException.illegalArgument("Invalid prefix path");
        }
        if (path.normalize().getPath().contains("/../") || !path.normalize().getPath().equals(path.getPath())) {
            throw ApiException.illegalArgument("Invalid prefix path");   // no way out of a folder by dots
        }
        return path;
    }

    /** Empty when the path is the execution's own (or its flow's state store); another execution's id; else 422. */
    private static Optional<String> otherExecution(Execution execution, URI path) {
        String namespaceFolder = "/" + execution.getNamespace().replace('.', '/');
        String flowFolder = namespaceFolder + "/" + Slugify.of(execution.getFlowId());
        String file = path.getPath();
        if (file.startsWith(flowFolder + "/executions/" + execution.getId())
            || file.startsWith(flowFolder + "/states") || file.startsWith(namespaceFolder + "/states")) {
            return Optional.empty();
        }
        Matcher other = OTHER_EXECUTION.matcher(file);
        if (other.find()) {
            return Optional.of(other.group(2));
        }
        throw ApiException.illegalArgument("Invalid prefix path");
    }

    private InputStream read(Execution execution, URI path) throws IOException {
        try {
            return storage.get(execution.getTenantId(), execution.getNamespace(), path);
        } catch (FileNotFoundException e) {
            throw ApiException.notFound("Unable to find file " + path);
        }
    }

    private static String baseName(URI path) {
        String file = path.getPath();
        return file.substring(file.lastIndexOf('/') + 1);
    }
}
