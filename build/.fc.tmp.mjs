import * as acorn from "acorn";
import * as walk from "acorn-walk";
import fs from "fs";
const src=fs.readFileSync(process.argv[2],"utf8");
const ast=acorn.parse(src,{ecmaVersion:5});
let top=0, nested=0, params=0; const rows=[];
function visit(node, depth, name){
  walk.recursive(node, {depth}, {
    Function(n, st, c){ const nm = n.id?n.id.name:name||"?"; if(st.depth===0){top++;params+=n.params.length;rows.push(nm+"("+n.params.length+") "+(n.end-n.start)+"B")} else nested++; c(n.body,{depth:st.depth+1}); }
  });
}
visit(ast,0);
console.log("top",top,"params",params,"nested",nested); console.log(rows.join("\n"));
