import Support

/// The JSON Schema of `report.json`, built into the binary so `weakspot rank` and the planner can
/// check the reports they read without finding files at run time. The text is generated from
/// docs/schemas/report.schema.json into ReportSchemaText.swift (ReportSchemaTests generates and
/// compares it). Not a SwiftPM resource: on Linux `Bundle.module` traps when the resource folder
/// is not next to the binary and the build folder is gone, so a copied binary would crash
/// (docs/architecture.md, "Built-in schema").
public enum ReportSchema {

    public static let validator: JSONSchemaValidator = JSONSchemaValidator(schema: try! JSONValue.parse(text))
}
