// IndexedDB as the apps use it: a database of plain object stores, and one
// request per transaction, settled when the transaction ends however it
// ends (a transaction can abort without an error event: quota, a closing
// database). The device's key (keys.js) and the tablet's documents and
// notes (tablet/reader.js) are kept this way.

/** `run(store, mode, action)` on the database `name` with `stores`, made on first use. */
export function database(name, stores) {
  const open = () =>
    new Promise((resolve, reject) => {
      const req = indexedDB.open(name, 1);
      req.onupgradeneeded = () => {
        for (const store of stores) req.result.createObjectStore(store);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  return async (store, mode, action) => {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const req = action(tx.objectStore(store));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error(`the device's store ${name}/${store} is unavailable`));
    }).finally(() => db.close());
  };
}

/** Deletes the database `name` and all it holds. */
export function deleteDatabase(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
  });
}
