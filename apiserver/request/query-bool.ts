// Boolean query parameters as upstream decodes them (apimachinery's Convert_Slice_string_To_bool): absent is
// unset; "0" and "false" in any case are false; every other value — "true", "True" (the Python client's
// spelling), "1", even an empty `?watch=` — is true.

/** undefined when the parameter is absent. */
export function queryBool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  return !(value === '0' || value.toLowerCase() === 'false');
}
