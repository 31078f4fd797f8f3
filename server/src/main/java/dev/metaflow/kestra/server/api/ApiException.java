package dev.metaflow.kestra.server.api;

/**
 * An error answer with the status and whole message Kestra's web server gives,
 * e.g. 404 "Not Found: Requested Flow is not found.".
 */
public class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static ApiException notFound(String what) {
        return new ApiException(404, "Not Found: " + what);
    }

    public static ApiException illegalState(String what) {
        return new ApiException(409, "Illegal state: " + what);
    }

    public static ApiException illegalArgument(String what) {
        return new ApiException(422, "Illegal argument: " + what);
    }
}
