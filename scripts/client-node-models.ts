// Reads the generated models of @kubernetes/client-node: field types and formats from each class's
// attributeTypeMap (the only place that keeps int32/int64/byte/date-time), descriptions and required-ness
// from the matching .d.ts (the only place that keeps the /** */ docs and the `?` of optional fields).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ClientModelField {
  /** The TypeScript property name (`x_kubernetes_int_or_string`). */
  name: string;
  /** The JSON key on the wire (`x-kubernetes-int-or-string`). */
  jsonName: string;
  /** The TypeScript type as the attributeTypeMap spells it: `string`, `Array<V1Container>`, `{ [key: string]: string; }`. */
  type: string;
  /** OpenAPI format: `int32`, `int64`, `byte`, `date-time`, `date-time-micro`, `int-or-string`, `double` or ''. */
  format: string;
  description?: string;
  required: boolean;
}

export interface ClientModel {
  className: string;
  description?: string;
  fields: ClientModelField[];
}

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

const CLIENT_PACKAGE = join('node_modules', '@kubernetes', 'client-node');

/**
 * The directory of the installed client package. Looked up from the repository root the script lives
 * in (dist/scripts → two levels up), then from the working directory, so that a build into another
 * output directory (tests build into /tmp) still finds the repository's node_modules.
 */
export function locateClientPackage(fromModuleUrl: string): string {
  const starts = [resolve(dirname(fileURLToPath(fromModuleUrl)), '..', '..'), process.cwd()];
  for (const start of starts) {
    for (let directory = start; ; directory = dirname(directory)) {
      const candidate = join(directory, CLIENT_PACKAGE);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dirname(directory) === directory) break;
    }
  }
  throw new Error(`cannot find ${CLIENT_PACKAGE} above ${starts.join(' or ')}; run npm install first`);
}

/**
 * Every model the package exports. `models/all.js` is the list to trust: the models directory also holds
 * stale files from earlier generations (V1alpha2ResourceClaim, …) that nothing imports.
 */
export async function loadClientModels(clientPackage: string): Promise<ClientModel[]> {
  const modelsDirectory = join(clientPackage, 'dist', 'gen', 'models');
  const exported = (await import(pathToFileURL(join(modelsDirectory, 'all.js')).href)) as Record<string, unknown>;
  const models: ClientModel[] = [];
  for (const className of Object.keys(exported).sort()) {
    const modelClass = exported[className] as Partial<ModelClass> | undefined;
    if (typeof modelClass?.getAttributeTypeMap !== 'function') continue;
    const docs = parseDeclarationDocs(readFileSync(join(modelsDirectory, `${className}.d.ts`), 'utf8'), className);
    const fields = modelClass.getAttributeTypeMap().map((attribute): ClientModelField => {
      const doc = docs.fields.get(attribute.name);
      return {
        name: attribute.name,
        jsonName: attribute.baseName,
        type: attribute.type,
        format: attribute.format,
        description: doc?.description,
        required: doc ? !doc.optional : false,
      };
    });
    models.push({ className, description: docs.description, fields });
  }
  return models;
}

interface DeclarationDocs {
  description?: string;
  fields: Map<string, { description?: string; optional: boolean }>;
}

/**
 * Line-based reading of one generated .d.ts. The generator's layout is fixed: a class comment at column
 * 0 before `export declare class`, then per field an optional 4-space-indented comment followed by
 * `'name'?: type;`. Reading by line (not by regex over the file) keeps quotes inside descriptions from
 * ever being taken for field names.
 */
export function parseDeclarationDocs(source: string, className: string): DeclarationDocs {
  const docs: DeclarationDocs = { fields: new Map() };
  let pendingComment: string[] | undefined;
  let openComment: string[] | undefined;
  let insideClass = false;
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (openComment) {
      if (trimmed === '*/' || trimmed.endsWith('*/')) {
        pendingComment = openComment;
        openComment = undefined;
      } else {
        openComment.push(trimmed.replace(/^\* ?/, ''));
      }
      continue;
    }
    if (trimmed === '/**') {
      openComment = [];
      continue;
    }
    if (!insideClass) {
      if (trimmed.startsWith(`export declare class ${className} `)) {
        insideClass = true;
        docs.description = commentText(pendingComment);
      }
      pendingComment = undefined;
      continue;
    }
    const field = /^ {4}'([^']+)'(\?)?:/.exec(line);
    if (field) {
      docs.fields.set(field[1], { description: commentText(pendingComment), optional: field[2] === '?' });
    }
    if (trimmed !== '') pendingComment = undefined;
  }
  return docs;
}

function commentText(lines: string[] | undefined): string | undefined {
  if (!lines) return undefined;
  // The generator escapes quotes and backslashes as if the comment were a string literal.
  const text = lines.join('\n').trim().replace(/\\(['"\\])/g, '$1');
  return text === '' ? undefined : text;
}
