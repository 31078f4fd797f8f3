package dev.metaflow.kestra.server.api;

import io.kestra.core.exceptions.DeserializationException;
import io.kestra.core.exceptions.FlowProcessingException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;

import java.util.NoSuchElementException;
import java.util.stream.Collectors;

/** Exceptions to answers, with the statuses and prefixes of Kestra's ErrorController. */
final class Errors {
    private Errors() {
    }

    /** The answer for {@code error}, or null when it is not one Kestra maps (a server error). */
    static ApiException toApi(Throwable error) {
        if (error instanceof ApiException api) {
            return api;
        }
        if (error instanceof ConstraintViolationException violations) {
            return new ApiException(422, "Invalid entity: " + describe(violations));
        }
        if (error instanceof FlowProcessingException || error instanceof DeserializationException) {
            Throwable cause = error.getCause() instanceof ConstraintViolationException ? error.getCause() : error;
            return cause == error ? new ApiException(422, "Invalid entity: " + error.getMessage()) : toApi(cause);
        }
        if (error instanceof IllegalArgumentException) {
            return ApiException.illegalArgument(error.getMessage());
        }
        if (error instanceof IllegalStateException) {
            return ApiException.illegalState(error.getMessage());
        }
        if (error instanceof NoSuchElementException) {
            return ApiException.notFound(error.getMessage());
        }
        return null;
    }

    private static String describe(ConstraintViolationException violations) {
        if (violations.getConstraintViolations() == null || violations.getConstraintViolations().isEmpty()) {
            return violations.getMessage();
        }
        return violations.getConstraintViolations().stream()
            .map(Errors::describe)
            .sorted()
            .collect(Collectors.joining("\n"));
    }

    private static String describe(ConstraintViolation<?> violation) {
        return violation.getPropertyPath() + ": " + violation.getMessage();
    }
}
