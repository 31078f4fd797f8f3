package dev.metaflow.kestra.server.api;

import io.kestra.core.storages.Namespace;
import io.kestra.core.storages.NamespaceFactory;
import io.kestra.core.storages.StorageInterface;
import io.micronaut.context.ApplicationContext;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;

/** Namespace files: upload ({@code fileContent} part), download and delete, by {@code ?path=}. */
final class NamespaceFileApi {
    private final NamespaceFactory namespaces;
    private final StorageInterface storage;

    NamespaceFileApi(ApplicationContext context) {
        this.namespaces = context.getBean(NamespaceFactory.class);
        this.storage = context.getBean(StorageInterface.class);
    }

    void register(ApiServer api) {
        String path = "/api/v1/{tenant}/namespaces/{namespace}/files";
        api.add("POST", path, this::upload);
        api.add("GET", path, this::download);
        api.add("DELETE", path, this::delete);
    }

    private Response upload(Request request) throws Exception {
        Path file = filePath(request);
        Multipart.Part content = request.parts().stream()
            .filter(part -> part.name().equals("fileContent"))
            .findFirst()
            .orElseThrow(() -> ApiException.illegalArgument("the multipart part 'fileContent' is required"));
        namespace(request).putFile(file, new ByteArrayInputStream(content.content()));
        return new Response(200, null, new byte[0]);
    }

    private Response download(Request request) throws Exception {
        Path file = filePath(request);
        Namespace namespace = namespace(request);
        if (!namespace.exists(file)) {
            throw new ApiException(404, "Not Found");
        }
        return Response.streamed(200, "application/octet-stream", namespace.getFileContent(file));
    }

    private Response delete(Request request) throws Exception {
        namespace(request).delete(filePath(request));
        return new Response(200, null, new byte[0]);
    }

    private Namespace namespace(Request request) {
        return namespaces.of(request.tenant(), request.path("namespace"), storage);
    }

    private static Path filePath(Request request) {
        String path = request.query("path").orElseThrow(() -> ApiException.illegalArgument("the query parameter 'path' is required"));
        if (path.contains("..") || path.length() > 255) {
            throw ApiException.illegalArgument("Forbidden path: " + path);
        }
        return Path.of(path.startsWith("/") ? path : "/" + path);
    }
}
