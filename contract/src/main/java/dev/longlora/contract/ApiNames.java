package dev.longlora.contract;

/** The LongLoRAJob API's names (docs/contract.md section 1). */
public final class ApiNames {
    public static final String GROUP = "longlora.dev";
    public static final String VERSION = "v1alpha1";
    public static final String API_VERSION = GROUP + "/" + VERSION;
    public static final String KIND = "LongLoRAJob";

    private ApiNames() {}
}
