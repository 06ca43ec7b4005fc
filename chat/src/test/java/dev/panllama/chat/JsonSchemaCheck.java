package dev.panllama.chat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import java.util.List;

/** A JSON schema validator (networknt's, draft 2020-12): the oracle for grammar-constrained JSON. */
final class JsonSchemaCheck {
    private final Schema schema;

    JsonSchemaCheck(String schemaJson) {
        this.schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaJson);
    }

    /** What is wrong with {@code json} against the schema; empty when it is valid. */
    List<String> errors(String json) {
        return schema.validate(json, InputFormat.JSON).stream().map(Object::toString).toList();
    }
}
